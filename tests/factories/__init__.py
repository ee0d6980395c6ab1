"""Test data made the way the app makes it: one module per app, each going through that app's services.

Every import of a product service that the suite's data building needs lives in these modules, so a service that
moves (``alliance.services`` becoming a package, say) is followed here and nowhere else."""
