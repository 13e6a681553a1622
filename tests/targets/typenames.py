"""The type name pyleaks gives (docs/architecture.md "Type names"), as the
targets compute it for their oracles."""


def type_name(t):
    # Read through type's own descriptors so that no metaclass can answer
    # instead.
    try:
        qualname = type.__dict__["__qualname__"].__get__(t)
    except Exception:
        qualname = t.__name__
    try:
        module = type.__dict__["__module__"].__get__(t)
    except Exception:
        module = None
    if not isinstance(module, str) or module == "builtins":
        return qualname
    return module + "." + qualname
