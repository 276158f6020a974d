"""How the supervisors' dashboard is served by default: one place for the command line,
the Voilà launcher and the sheets' index page (which links to the dashboard), so that
none of them has to import the others to agree."""

from __future__ import annotations

# Voilà's own default port: `auditlib dashboard` uses it, so that outputs/index.html can link to it.
DEFAULT_PORT = 8866
DEFAULT_HOST = "127.0.0.1"
# A visitor's kernel lives while its page is open; once the page is gone it is shut down
# after this many idle seconds (jupyter_server's culler), and at most MAX_KERNELS run at once.
CULL_IDLE = 300
CULL_INTERVAL = 30
MAX_KERNELS = 16


def dashboard_url(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    """The dashboard's address as a browser on this machine reaches it."""
    return f"http://{host}:{port}/"
