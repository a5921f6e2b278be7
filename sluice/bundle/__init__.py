"""DAG bundles: a versioned archive of ``dags/`` with a manifest, and its verification."""
