"""meshdesk: see and steer an Istio service mesh from your desktop."""

__version__ = "0.1.0"
