"""Use cases of dialconf. Each public function owns one transaction: `with uow: ...; uow.commit()`.

Every surface (CLI, API, admin center, telephony) calls these functions and nothing else holds
business rules.
"""
