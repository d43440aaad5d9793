"""Reads of the library for pages, the API and the command line.

The page reads (`list_library_channels`, `get_channel_page`, `get_topic_page`,
`get_resource_page`, `get_search_facets`, `search_resources`) run a fixed
number of queries whatever the size of the library: lists are read with
`.values()` in one query each, thumbnails and channel titles joined in.
Callers pass what the person may see (kalan.content.permissions).
"""

from kalan.content.selectors.items import (
    NodeItem,
    StoredFile,
    accessibility_label,
    duration_text,
    kind_label,
    language_name,
)
from kalan.content.selectors.library import (
    CHILDREN_PER_PAGE,
    ROOT_PATH,
    ChannelCard,
    ChannelRow,
    Crumb,
    ResourcePage,
    TopicPage,
    get_channel_page,
    get_resource_page,
    get_topic_page,
    list_channels,
    list_library_channels,
    list_source_channels,
)
from kalan.content.selectors.search import (
    RESULTS_PER_PAGE,
    SearchCriteria,
    SearchFacets,
    SearchResults,
    get_search_facets,
    search_resources,
)

__all__ = [
    "CHILDREN_PER_PAGE",
    "RESULTS_PER_PAGE",
    "ROOT_PATH",
    "ChannelCard",
    "ChannelRow",
    "Crumb",
    "NodeItem",
    "ResourcePage",
    "SearchCriteria",
    "SearchFacets",
    "SearchResults",
    "StoredFile",
    "TopicPage",
    "accessibility_label",
    "duration_text",
    "get_channel_page",
    "get_resource_page",
    "get_search_facets",
    "get_topic_page",
    "kind_label",
    "language_name",
    "list_channels",
    "list_library_channels",
    "list_source_channels",
    "search_resources",
]
