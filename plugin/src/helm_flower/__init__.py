"""helm-flower: the `helm flower` plugin for Flower federations on Open Cluster Management."""

__version__ = "0.1.0"
