package com.example.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads target/configlab/snapshots.csv ("file,snapshot_id") written before the test run. */
final class SnapshotIds {

    private static Map<String, String> ids;

    private SnapshotIds() {
    }

    static synchronized String of(Path configFile) throws IOException {
        if (ids == null) {
            ids = new HashMap<>();
            List<String> lines = Files.readAllLines(
                    configFile.getParent().getParent().resolve("snapshots.csv"));
            for (String line : lines.subList(1, lines.size())) {
                String[] cells = line.split(",", 2);
                ids.put(cells[0], cells[1]);
            }
        }
        String id = ids.get(configFile.getFileName().toString());
        if (id == null) {
            throw new IllegalStateException("no snapshot id for " + configFile);
        }
        return id;
    }
}
