"""What a mesh is: entities, telemetry samples, graph building. Standard library and networkx only."""
