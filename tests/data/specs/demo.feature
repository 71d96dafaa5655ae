@space:space.yaml @version:3
Feature: demo-app
  The demo application, specified in Gherkin.

  Background:
    Given the config has fault = none

  Scenario: a disabled cache works
    Given the config has cache.enabled = false
    When the application runs
    Then the exit code is 0
    And the output contains "ok"
    And duration_s < 30

  Scenario Outline: cache of size <size>
    Given the config has cache.enabled = true
    And the config has cache.size = <size>
    When the application runs
    Then the exit code is <code>
    And the output matches "<pattern>"

    Examples:
      | size | code | pattern |
      | 7    | 0    | ^ok     |
      | 33   | 3    | ^$      |
      | 64   | 3    | ^$      |

  Scenario: safe mode
    Given the config satisfies "mode == 'safe' and cache.enabled == false"
    When the application runs
    Then the test passes
