"""The wheel set: what the folder's wheels are to each other (requirements, what an install
brings along) and, as one environment, what they do together."""
