"""Late binding for a call that runs against the import order: a module triggers something defined in a
module that imports it.

Two cases in this codebase: a service publishes a Celery task whose module imports that service (the
task runs it, and the task module imports the service, never the other way round), and the
payments service settles a sandbox refund whose webhook comes back through that same service. An import
either way round would close a cycle (docs/architecture.md forbids them; import-linter checks it).

So the lower module declares a `Binding` named after its target, and the app's `AppConfig.ready()`
binds it to the target: the import graph keeps one direction, and a reader finds the target by the
name. Calling a binding that was never bound raises; tests/cerebrum/test_import_contracts.py checks
that every binding is bound once Django is set up.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Binding:
    """A stand-in for a callable or a Celery task: calls and attributes (``apply_async``, ``apply``,
    ``delay``) go to what ``bind`` gave it, so ``cerebrum.task_publish.task_publish`` takes it as a task."""

    instances: ClassVar[list[Binding]] = []

    def __init__(self, name: str) -> None:
        self.name = name  # the task's name, or the dotted path of the function it stands for
        self._target: Any = None
        Binding.instances.append(self)

    def bind(self, target: Any) -> None:
        self._target = target

    @property
    def target(self) -> Any:
        if self._target is None:
            raise RuntimeError(f"{self.name} is not bound: its app binds it in AppConfig.ready()")
        return self._target

    def __call__(self, *args, **kwargs) -> Any:
        return self.target(*args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.target, attribute)

    def __repr__(self) -> str:
        return f"<Binding {self.name} -> {self._target!r}>"
