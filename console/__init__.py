"""The web console: a static page and its assets, served by the app itself.

The page holds no data; every data call goes from the browser to the API with
the user's credentials.
"""
