"""SQL clauses and small reads over the models, shared by the services (core layer, inside core.db).

Plain SQLAlchemy on core.db.models: no permission checks, no audit rows, no commits; the services decide who may
run them. Who may read an incident is not here: that rule is one predicate, core.services.visibility.
"""
