package com.example.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A small HTTP service configured by a JSON document: it listens on 127.0.0.1 (a free port),
 * serves {@code /health} from a pool of {@code server.workers} threads and keeps a cache of
 * {@code cache.size_mb} MB.  It has one real configuration bug for configlab to find: with the
 * cache enabled, the health check sizes its buffer as {@code size_mb / workers} and reports
 * itself unhealthy when that share is 0 (more workers than cache megabytes).
 */
public final class Service {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService pool;
    private final HttpClient client = HttpClient.newHttpClient();

    private Service(HttpServer server, ExecutorService pool) {
        this.server = server;
        this.pool = pool;
    }

    /** Start the service under the config {@code json}; throws on a config it refuses. */
    public static Service start(String json) throws IOException {
        JsonNode config = JSON.readTree(json);
        int workers = config.path("server").path("workers").asInt(4);
        int backlog = config.path("server").path("backlog").asInt(50);
        boolean cacheEnabled = config.path("cache").path("enabled").asBoolean(true);
        int sizeMb = config.path("cache").path("size_mb").asInt(64);
        if (workers < 1) {
            throw new IllegalArgumentException("server.workers must be >= 1, got " + workers);
        }
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), backlog);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        server.setExecutor(pool);
        server.createContext("/health", exchange -> {
            boolean ok = !cacheEnabled || sizeMb / workers > 0;
            byte[] body = (ok ? "ok" : "cache share per worker is 0 MB")
                    .getBytes(StandardCharsets.UTF_8);
            try (InputStream ignored = exchange.getRequestBody()) {
                exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
                exchange.getResponseBody().write(body);
            } finally {
                exchange.close();
            }
        });
        server.start();
        return new Service(server, pool);
    }

    /** Whether the service accepts connections. */
    public boolean isReady() {
        return server.getAddress().getPort() > 0;
    }

    /** GET /health. */
    public Health health() throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/health");
        HttpResponse<String> response = client.send(
                HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
        return new Health(response.statusCode(), response.body());
    }

    /** Stop listening and release the worker threads. */
    public void stop() {
        server.stop(0);
        pool.shutdownNow();
    }

    /** The answer of /health. */
    public record Health(int status, String body) {
        /** HTTP 200. */
        public boolean isOk() {
            return status == 200;
        }
    }
}
