"""The probe side: install a wheel in its own uv venv, import its extension modules in a
sandboxed process, classify what happened (job.py drives one wheel from start to end)."""
