"""The floor of the HTTP comparison: a hello-world Flask application, served by gunicorn with the same settings as
`bud-checker serve` (benchmarks/http_bench.py runs both side by side). POST /api/v1/verifications reads the JSON
body and answers 201 with a small JSON document: what any Flask API does, without our engine or database."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/verifications")
def create():
    return jsonify({"bonjour": "le monde", "taille": len(request.get_json(silent=True) or {})}), 201


@app.get("/")
def index():
    return "Bonjour le monde\n"
