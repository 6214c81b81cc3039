"""The run configuration: settings, the target interpreter, platform keys, variants, the
selection of wheels, the run context and the plan of sessions."""
