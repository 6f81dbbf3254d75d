"""The Azure Functions entry point: one FunctionApp, the blueprints, no logic.

Importing this module must stay cheap (cold start): parsers and SDK clients
load on first use, never here.
"""

from __future__ import annotations

import azure.functions as func

from console.triggers import bp as console_bp
from kernel import telemetry
from notifications.triggers import bp as notifications_bp
from processing.triggers import bp as processing_bp
from search.triggers import bp as search_bp
from webingest.triggers import bp as webingest_bp

#: The app's own loggers, whose level LOG_LEVEL sets.
APP_LOGGERS = ("kernel", "processing", "notifications", "search", "webingest", "console")

telemetry.configure(APP_LOGGERS)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(processing_bp)
app.register_functions(notifications_bp)
app.register_functions(search_bp)
app.register_functions(webingest_bp)
app.register_functions(console_bp)
