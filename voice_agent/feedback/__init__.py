"""Post-interview feedback: figures computed from the stored transcript."""
