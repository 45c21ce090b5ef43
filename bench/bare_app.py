"""The benchmarks' baseline: a bare Flask app answering "hello", outside our middleware
(no request ids, logs, metrics, session, database), served by gunicorn with the same
workers as the shop. Every page of `make bench` is reported as a ratio to it.

    gunicorn -w 5 -b 127.0.0.1:8001 bench.bare_app:app
"""
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "hello"
