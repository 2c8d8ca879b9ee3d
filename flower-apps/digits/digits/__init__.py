"""digits: a Flower app (numpy softmax regression on scikit-learn's digits)."""
