"""A real OCM control plane as local processes (test infrastructure): see layout.py for what it is
made of, control.py for up/down, supervise.py for the background supervisor."""
