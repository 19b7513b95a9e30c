"""A script without any User class."""

from locust import between

WAIT = between(1, 2)
