"""The shipped configs and judge templates, installed as rayscore.configs (data; no code here)."""
