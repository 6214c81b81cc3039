"""Renderers of the report model. They read ``verdict.Report``; they never judge."""
