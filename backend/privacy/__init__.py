"""Privacy: the data inventory, retention, the person's rights (export, erasure), the report."""
