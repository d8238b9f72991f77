"""The dashboard: a local, read-only web app over redline's store and case files.

``redline dashboard`` serves it (``pip install 'redline[dashboard]'``). Nothing here is
imported by ``import redline``.
"""

from redline.dashboard.app import DashboardSettings, create_app

__all__ = ["DashboardSettings", "create_app"]
