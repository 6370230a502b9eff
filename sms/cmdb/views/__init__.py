"""Browser pages of the CMDB and the catalogue of services."""
