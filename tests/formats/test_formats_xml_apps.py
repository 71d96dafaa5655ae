"""XML configs of real applications written back so that the application reads them: the root
element, namespace declarations and prefixed names as written, lists as repeated elements.

Maven is not installed on every CI machine, so Debian's real /etc/maven/settings.xml and
toolchains.xml (Apache-2.0) are copied into tests/data/formats; the consumer's check is a
schema-less, namespace-aware structural comparison of the original and the written file."""

from __future__ import annotations

import copy
import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import given
from hypothesis import strategies as st

from configlab.errors import FormatError
from configlab.formats import dumps, load, loads
from configlab.formats._common import same, stringify
from configlab.generation import generate
from configlab.space import ChoiceParam, infer_space
from tests.formats.test_formats_roundtrip import SETTINGS
from tests.paths import DATA_DIR

DATA = DATA_DIR / "formats"
SETTINGS_XML = DATA / "maven-settings.xml"
TOOLCHAINS_XML = DATA / "maven-toolchains.xml"
MAVEN = "http://maven.apache.org/SETTINGS/1.2.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def structure(element: ET.Element) -> Any:
    """Expanded names, attributes and stripped text, recursively (what an application reads)."""
    return (element.tag, sorted(element.attrib.items()), (element.text or "").strip(),
            [structure(child) for child in element])


def declarations(text: str) -> list[tuple[str, str]]:
    """The namespace declarations of a document, in order (prefix, URI)."""
    return [value for _event, value in ET.iterparse(io.StringIO(text), events=("start-ns",))]


@pytest.mark.parametrize("path", [SETTINGS_XML, TOOLCHAINS_XML])
def test_real_maven_files_written_back_as_maven_reads_them(path: Any) -> None:
    original = path.read_text(encoding="utf-8")
    tree = load(path)
    written = dumps(tree, "xml")
    assert structure(fromstring(written)) == structure(fromstring(original))
    assert declarations(written) == declarations(original)
    assert "cl:" not in written and "urn:configlab" not in written
    assert same(loads(written, "xml"), tree)


def test_maven_settings_keys_are_names_as_written() -> None:
    tree = load(SETTINGS_XML)
    assert tree["#root"] == "settings"
    assert tree["@xmlns"] == MAVEN and tree["@xmlns:xsi"] == XSI
    assert tree["@xsi:schemaLocation"].startswith(MAVEN + " https://")
    # elements holding only comments and whitespace are empty values, not whitespace strings
    assert tree["pluginGroups"] == tree["proxies"] == tree["servers"] == ""
    assert tree["mirrors"]["mirror"]["url"] == "http://0.0.0.0/"
    assert tree["mirrors"]["mirror"]["blocked"] is True
    assert list(tree)[:4] == ["#root", "@xmlns", "@xmlns:xsi", "@xsi:schemaLocation"]


def _variant() -> dict[str, Any]:
    """The Debian settings with two mirrors, a server and active profiles (lists of elements)."""
    tree = load(SETTINGS_XML)
    second = copy.deepcopy(tree)
    second["servers"] = {"server": {"id": "releases", "username": "ci", "password": "s3cret"}}
    mirror = dict(second["mirrors"]["mirror"], id="corp", mirrorOf="central",
                  url="https://repo.example.org/maven2", blocked=False)
    second["mirrors"]["mirror"] = [second["mirrors"]["mirror"], mirror]
    second["activeProfiles"] = {"activeProfile": ["ci", "offline"]}
    return second


def test_lists_are_written_as_repeated_elements() -> None:
    tree = _variant()
    text = dumps(tree, "xml")
    assert text.count("<mirror>") == 2 and "cl:" not in text
    assert "<activeProfile>ci</activeProfile>\n    <activeProfile>offline</activeProfile>" in text
    root = fromstring(text)
    assert root.tag == f"{{{MAVEN}}}settings"
    urls = [url.text for url in root.iter(f"{{{MAVEN}}}url")]
    assert urls == ["http://0.0.0.0/", "https://repo.example.org/maven2"]
    assert same(loads(text, "xml"), tree)


def test_space_inferred_from_maven_settings_keeps_root_and_namespaces() -> None:
    variants = [load(SETTINGS_XML), _variant()]
    space = infer_space(variants)
    for path in ("#root", "@xmlns", "@xmlns:xsi"):
        param = space.param(path)
        assert isinstance(param, ChoiceParam) and param.values == (variants[0][path],)
    original = SETTINGS_XML.read_text(encoding="utf-8")
    configs = list(generate(space, "covering", seed=3, count=6))
    assert len(configs) > 1
    for config in configs:
        assert config["#root"] == "settings"
        text = dumps(config, "xml")
        root = fromstring(text)
        assert root.tag == f"{{{MAVEN}}}settings"
        assert root.get(f"{{{XSI}}}schemaLocation") == variants[0]["@xsi:schemaLocation"]
        assert declarations(text) == declarations(original)
    # a single example: the root name and declarations stay constants, never free strings
    single = infer_space([variants[0]])
    for path, value in (("#root", "settings"), ("@xmlns", MAVEN)):
        param = single.param(path)
        assert isinstance(param, ChoiceParam) and param.values == (value,)


def test_root_convention() -> None:
    assert loads("<config><a>1</a></config>", "xml") == {"a": 1}
    assert loads("<Server port='8005'/>", "xml") == {"#root": "Server", "@port": 8005}
    assert dumps({"a": 1}, "xml").splitlines()[1] == "<config>"
    assert dumps({"#root": "busconfig", "user": "messagebus"}, "xml").splitlines()[1:] == [
        "<busconfig>", "  <user>messagebus</user>", "</busconfig>"]
    # a #root that cannot name the root element (or is "config") stays a key of <config>
    for root in ("config", "1st", "a b", 5, None, ["x"], "p:x", "cl:x", "xmlRoot"):
        tree = {"#root": root, "a": "x"}
        text = dumps(tree, "xml")
        assert text.splitlines()[1].startswith("<config")
        assert same(loads(text, "xml"), tree)
    with pytest.raises(FormatError, match="'#root' is given more than once") as info:
        loads("<s xmlns:cl='urn:configlab'>\n<cl:entry cl:key='#root'>s</cl:entry></s>", "xml")
    assert info.value.line == 1
    with pytest.raises(FormatError, match="root element cannot be a configlab annotation"):
        loads("<cl:entry xmlns:cl='urn:configlab' cl:key='a'/>", "xml")


SPRING = """<?xml version="1.0" encoding="UTF-8"?>
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:context="http://www.springframework.org/schema/context"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <context:component-scan base-package="org.example"/>
  <bean id="pool" class="org.example.Pool" xml:lang="en">
    <property name="size" value="8"/>
    <property name="host"><value xmlns:p="urn:p" p:kind="dns">db.local</value></property>
  </bean>
</beans>
"""


def test_prefixed_element_names_and_inner_declarations() -> None:
    tree = loads(SPRING, "xml")
    assert tree["context:component-scan"] == {"@base-package": "org.example"}
    assert tree["bean"]["@xml:lang"] == "en"
    assert tree["bean"]["property"][1]["value"] == {
        "@xmlns:p": "urn:p", "@p:kind": "dns", "#text": "db.local"}
    written = dumps(tree, "xml")
    assert "cl:" not in written
    assert structure(fromstring(written)) == structure(fromstring(SPRING))
    assert declarations(written) == declarations(SPRING)


def test_undeclared_prefixes() -> None:
    with pytest.raises(FormatError, match="unbound prefix 'a'") as info:
        loads("<r>\n<a:b/></r>", "xml", source="x.xml")
    assert (info.value.path, info.value.line) == ("x.xml", 2)
    with pytest.raises(FormatError, match="unbound prefix 'q'"):
        loads("<r q:x='1'/>", "xml")
    with pytest.raises(FormatError, match="empty URI"):
        loads("<r xmlns:q=''/>", "xml")
    # a tree naming an undeclared prefix is still written faithfully (as configlab entries)
    tree = {"a:b": 1, "s": {"@q:x": "1", "@xmlns:cl": "urn:other", "cl:y": 2, "@xmlns:e": "",
                            "@a:b:c": "x", "@:d": "y", ":e": "z"}}
    text = dumps(tree, "xml")
    assert '<cl:entry cl:key="a:b">1</cl:entry>' in text
    assert same(loads(text, "xml"), tree)
    declared = {"@xmlns:q": "urn:q", "q:b": {"@q:x": "y"}, "@xmlns:k": "urn:configlab"}
    text = dumps(declared, "xml")
    assert '<q:b q:x="y"/>' in text and 'cl:key="@xmlns:k"' in text
    assert same(loads(text, "xml"), declared)


def test_whitespace_only_text() -> None:
    assert loads("<config><a>\n  <!-- off -->\n  </a><b> </b><c/></config>", "xml") == {
        "a": "", "b": "", "c": ""}
    for typed in (True, False):
        tree = {"a": " ", "b": "\n\t", "c": ""}
        text = dumps(tree, "xml", typed=typed)
        assert '<a cl:type="str"> </a>' in text and "<c></c>" in text
        assert loads(text, "xml", typed=typed) == tree


def test_annotations_only_where_needed() -> None:
    text = dumps({"port": 8080, "on": True, "ratio": 0.5, "name": "x"}, "xml")
    assert "cl:" not in text and "<port>8080</port>" in text
    assert 'xmlns:cl="urn:configlab"' in dumps({"port": "8080"}, "xml")


_NAMES = st.sampled_from(["a", "b", "p:a", "q:b", "@x", "@p:y", "@xml:lang", "#text",
                          "@xmlns", "@xmlns:p", "@xmlns:q", "#root", "cl:c", "@xmlns:cl"])
_VALUES = st.one_of(st.sampled_from(["", " ", "urn:p", "8080", "t"]), st.integers(),
                    st.booleans(), st.none())


_TREES = st.builds(
    lambda top, body: {**body, **top},
    st.fixed_dictionaries({"#root": st.sampled_from(["config", "settings", "p:root", "1x"])},
                          optional={"@xmlns:p": st.just("urn:p")}),
    st.dictionaries(_NAMES, st.recursive(
        _VALUES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                         st.dictionaries(_NAMES, inner, max_size=4)),
        max_leaves=10), max_size=4),
)


@SETTINGS
@given(tree=_TREES)
def test_round_trip_with_roots_prefixes_and_declarations(tree: dict[str, Any]) -> None:
    # every tree is written (never refused) and reads back exactly, typed or not
    assert same(loads(dumps(tree, "xml"), "xml"), tree)
    assert same(loads(dumps(tree, "xml", typed=False), "xml", typed=False), stringify(tree))


# Excerpts of the files these applications ship (Hadoop's core-site.xml with its stylesheet PI,
# logback's documented logback.xml, Tomcat 10's conf/server.xml).
APP_FILES = {
    "hadoop": """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>
<configuration>
  <property>
    <name>fs.defaultFS</name>
    <value>hdfs://localhost:9000</value>
  </property>
  <property>
    <name>dfs.replication</name>
    <value>1</value>
    <final>true</final>
  </property>
</configuration>
""",
    "logback": """<configuration debug="false" scan="true" scanPeriod="30 seconds">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg%n</pattern>
    </encoder>
  </appender>
  <logger name="com.example" level="DEBUG" additivity="false"/>
  <root level="info">
    <appender-ref ref="STDOUT" />
  </root>
</configuration>
""",
    "tomcat": """<?xml version="1.0" encoding="UTF-8"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.AprLifecycleListener" SSLEngine="on" />
  <GlobalNamingResources>
    <Resource name="UserDatabase" auth="Container" type="org.apache.catalina.UserDatabase"
              pathname="conf/tomcat-users.xml" />
  </GlobalNamingResources>
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1" connectionTimeout="20000" redirectPort="8443"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="true">
        <Valve className="org.apache.catalina.valves.AccessLogValve" directory="logs"
               pattern="%h %l %u %t &quot;%r&quot; %s %b" />
      </Host>
    </Engine>
  </Service>
</Server>
""",
}


@pytest.mark.parametrize("app", sorted(APP_FILES))
def test_application_files_written_back(app: str) -> None:
    text = APP_FILES[app]
    tree = loads(text, "xml")
    written = dumps(tree, "xml")
    assert "cl:" not in written
    assert structure(fromstring(written)) == structure(fromstring(text))
    assert tree["#root"] == {"hadoop": "configuration", "logback": "configuration",
                             "tomcat": "Server"}[app]
    if app == "hadoop":  # repeated <property> elements: a list, written back as repeated
        assert [p["name"] for p in tree["property"]] == ["fs.defaultFS", "dfs.replication"]
