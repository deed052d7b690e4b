"""loadtui — an interactive terminal load tester for LLM APIs and LLM gateways."""

__version__ = "0.1.0"
