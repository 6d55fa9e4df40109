"""Pure rules of the domain: no storage, no network, decided from the values given."""
