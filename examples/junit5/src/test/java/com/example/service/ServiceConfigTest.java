package com.example.service;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvFileSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the service under every config written by
 * {@code configlab generate --space space.yaml --out target/configlab/configs --format json}
 * and reports which snapshot each run used, so that {@code configlab ingest} can link the
 * Surefire report back to the exact configs.
 *
 * <p>The snapshot ids come from {@code configlab snapshot capture} (see docs/integration.md):
 * {@code target/configlab/snapshots.csv} holds {@code file,snapshot_id} rows.
 */
class ServiceConfigTest {

    private static final Path CONFIG_DIR = Path.of(
            System.getProperty("configlab.dir", "target/configlab/configs"));
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The generated configs in manifest order: the "files" array of manifest.json. */
    static Stream<Path> generatedConfigs() throws IOException {
        JsonNode manifest = JSON.readTree(CONFIG_DIR.resolve("manifest.json").toFile());
        Stream.Builder<Path> files = Stream.builder();
        manifest.get("files").forEach(name -> files.add(CONFIG_DIR.resolve(name.asText())));
        return files.build();
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("generatedConfigs")
    void startsUnderGeneratedConfig(Path configFile, TestReporter reporter) throws Exception {
        String snapshotId = SnapshotIds.of(configFile);
        // JUnit Platform XML reports (ConsoleLauncher, junit-platform-reporting) write report
        // entries into <system-out> as "- configlab.snapshot_id: <id>".
        reporter.publishEntry("configlab.snapshot_id", snapshotId);
        // Maven Surefire does not turn report entries into <properties>
        // (junit-team/junit-framework#1161); a marker line on stdout lands in the testcase's
        // <system-out>, which configlab reads the same way.
        System.out.println("configlab.snapshot_id=" + snapshotId);

        Service service = Service.start(Files.readString(configFile));
        try {
            assertTrue(service.isReady(), "service did not become ready under " + configFile);
        } finally {
            service.stop();
        }
    }

    /** The same suite fed by a CSV file: one "file,snapshot_id" row per generated config. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvFileSource(files = "target/configlab/snapshots.csv", numLinesToSkip = 1)
    void answersHealthChecks(String file, String snapshotId, TestReporter reporter)
            throws Exception {
        reporter.publishEntry("configlab.snapshot_id", snapshotId);
        System.out.println("configlab.snapshot_id=" + snapshotId);
        Service service = Service.start(Files.readString(CONFIG_DIR.resolve(file)));
        try {
            Service.Health health = service.health();
            assertTrue(health.isOk(), "GET /health: " + health.status() + " " + health.body());
        } finally {
            service.stop();
        }
    }
}
