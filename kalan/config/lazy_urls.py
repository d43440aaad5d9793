"""A namespaced URL conf that is imported only when a request or a reverse() needs it.

Django builds its reverse tables on the first `{% url %}` of the first page and,
doing so, imports every included URL conf. For the JSON API that would load
django-ninja and pydantic (about 15 MB and a quarter of a second) into every
process that only serves pages.
"""

from typing import Any

from django.urls import URLResolver
from django.urls.resolvers import RoutePattern


class LazyURLResolver(URLResolver):
    def _populate(self) -> None:
        # The parent calls this while building its own tables; a namespaced
        # resolver only lends its namespace there, so until the module is
        # imported (through url_patterns) there is nothing to add.
        if "urlconf_module" in self.__dict__:
            super()._populate()

    def _load(self) -> None:
        self.urlconf_module  # noqa: B018 - imports the module (a cached property)

    @property
    def reverse_dict(self) -> Any:
        self._load()
        return super().reverse_dict

    @property
    def namespace_dict(self) -> Any:
        self._load()
        return super().namespace_dict

    @property
    def app_dict(self) -> Any:
        self._load()
        return super().app_dict

    def _is_callback(self, name: str) -> bool:
        self._load()
        return super()._is_callback(name)


def lazy_include(route: str, module: str, namespace: str) -> LazyURLResolver:
    return LazyURLResolver(RoutePattern(route), module, app_name=namespace, namespace=namespace)
