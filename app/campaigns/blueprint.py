"""The ``campaigns`` blueprint, shared by the public/clipper and the brand route modules."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__)
