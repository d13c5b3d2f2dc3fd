"""Read YAML text safely into plain data, remembering where each value was written."""

import re

import yaml

from keras_seq.spec.errors import Problem, SpecError, format_path

MAX_BYTES = 1_000_000
MAX_NODES = 20_000
MAX_DEPTH = 64
_TOO_DEEP = f"the spec nests deeper than {MAX_DEPTH} levels"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading `1e-5` as the number YAML 1.2 says it is (not a string)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_SCALARS = yaml.constructor.SafeConstructor()
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


def read_yaml(text, source=None):
    """Parse `text` into (data, locations).

    `locations` maps a path tuple such as `("encoder", "units")` to the 1-based
    `(line, column)` of the value there, and `path + ("<key>",)` to where the key was written.
    Only plain YAML is accepted: tags such as `!!python/object` are errors and never executed,
    and alias expansion, nesting depth and size are bounded so a hostile file fails fast.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        _fail(f"the spec is larger than {MAX_BYTES // 1000} kB; a spec is a short file", source)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise SpecError(
            [
                Problem(
                    path="",
                    message=f"YAML syntax error: {error.problem or error.context}",
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                    allowed="check indentation, colons after keys and matching quotes/brackets",
                )
            ],
            source,
        ) from None
    except yaml.YAMLError as error:
        _fail(f"YAML syntax error: {error}", source)
    except RecursionError:
        _fail(_TOO_DEEP, source)
    if node is None:
        _fail("the spec is empty; it needs at least the input, encoder and head sections", source)
    converter = _Converter(source)
    data = converter.convert(node, ())
    return data, converter.locations


def _fail(message, source, line=None, column=None, allowed=None, path=()):
    raise SpecError([Problem(format_path(path), message, line, column, allowed=allowed)], source)


class _Converter:
    def __init__(self, source):
        self.source = source
        self.locations = {}
        self.nodes_seen = 0

    def convert(self, node, path):
        self.nodes_seen += 1
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if self.nodes_seen > MAX_NODES:
            _fail(
                f"the spec expands to more than {MAX_NODES} values (an alias/anchor bomb?)",
                self.source,
                line,
                column,
                allowed="write the values out; anchors and aliases may repeat only small parts",
            )
        if len(path) > MAX_DEPTH:
            _fail(_TOO_DEEP, self.source, line, column)
        self.locations[path] = (line, column)
        if node.tag not in _PLAIN_TAGS:
            _fail(
                f"the YAML tag {node.tag!r} is not allowed (specs are plain data; tags are never "
                "executed)",
                self.source,
                line,
                column,
                allowed="plain strings, numbers, booleans, null, lists and mappings",
                path=path,
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (index,)) for index, item in enumerate(node.value)]
        return _SCALARS.construct_object(node)

    def _mapping(self, node, path):
        result = {}
        for key_node, value_node in node.value:
            key_line, key_column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                _fail("merge keys (<<) are not supported", self.source, key_line, key_column)
            if not isinstance(key_node, yaml.ScalarNode):
                _fail("a key must be a plain name", self.source, key_line, key_column)
            if key_node.tag not in _PLAIN_TAGS:
                self.convert(key_node, path)  # reports the tag
            key = str(_SCALARS.construct_object(key_node))
            if key in result:
                _fail(
                    f"duplicate key {key!r}",
                    self.source,
                    key_line,
                    key_column,
                    allowed="each key once per mapping; remove one of them",
                )
            self.locations[path + (key, "<key>")] = (key_line, key_column)
            result[key] = self.convert(value_node, path + (key,))
        return result
