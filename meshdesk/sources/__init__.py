"""Where data comes from: kubeconfig, Kubernetes API, Prometheus, snapshots, the demo cluster. No Qt."""
