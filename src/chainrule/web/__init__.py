"""The hiker: a web page where optimisers descend a surface you click.

``chainrule.web.app.create_app()`` builds the FastAPI app (the JSON API and the static
page); ``chainrule.web.server`` runs it under uvicorn (``chainrule hiker`` on the command
line). Nothing here imports FastAPI until it is used: install it with
``pip install chainrule[web]``.
"""
