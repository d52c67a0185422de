"""Request and response models of the REST API, one module per resource.

A response model derives from `Out` and is filled from the engine's dataclass with
`model_validate(row)` (pydantic reads the attributes); what only the transport knows (URLs,
rounding) is a computed field or a validator of the model, never a copy in the route.
"""
