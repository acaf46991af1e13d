"""The rules engine: situation -> verdict. No Flask, no database."""
