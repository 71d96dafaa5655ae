# The same kind of rules as spec.yaml, written as Gherkin:
#   configlab spec verify cache.feature --run "python app.py --config {config}"
@space:space.yaml @version:1
Feature: cache-service-gherkin
  Background:
    Given the config satisfies "db.pool.max >= server.workers"

  Scenario: a disabled cache still serves every request
    Given the config has cache.enabled = false
    When the application runs
    Then the exit code is 0
    And the output contains "MISS"

  Scenario Outline: a cache of <size> MiB serves hits
    Given the config has cache.enabled = true
    And the config has cache.size = <size>
    When the application runs
    Then the exit code is 0
    And the output contains "<last>"
    Examples:
      | size | last |
      | 8    | HIT  |
      | 64   | HIT  |

  Scenario: a 1 MiB cache crashes
    Given the config has cache.enabled = true
    And the config has cache.size = 1
    Then it raises RuntimeError
