"""Domain errors: a code and its parameters. The errors router turns the code into words."""


class DomainError(Exception):
    """A rule refused the request. `code` is a translation key under `error.`; params fill it."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, {self.params!r})"
