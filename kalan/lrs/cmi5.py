"""cmi5 on the LMS's side (the Quartz specification): the names the rest of Kalan imports.

A Kalan cmi5 resource is one course; its AUs are listed in the resource's
options["aus"] (content/inspect/cmi5.py). The work is done in four modules:

- `cmi5_course.py`: the vocabulary of cmi5, a resource seen as a course, what
  a learner's statements say of a registration, and moveOn (9.3.9);
- `cmi5_sessions.py`: a launch (`record_launch`, when an AU fetches its
  token): "abandoned" for sessions left open, "satisfied" at registration,
  "launched", LMS.LaunchData (10) and the learner's preferences (11);
- `cmi5_rules.py`: the rules of section 9 for the statements an AU posts
  with its token (`rules`, 403 `Cmi5Refused` naming the requirement), and
  "satisfied" for the blocks and course they complete;
- `cmi5_documents.py`: who may write LMS.LaunchData and the form of
  cmi5LearnerPreferences (`check_document_write`, called by the document
  resources before any write; 403 `Cmi5DocumentRefused`).
"""

from kalan.lrs.cmi5_course import (
    ABANDONED,
    ADL,
    AU_VERBS,
    BLOCK_TYPE,
    CMI5_CATEGORY,
    COMPLETED,
    COURSE_TYPE,
    FAILED,
    INITIALIZED,
    JUDGED,
    LAUNCH_DATA,
    LAUNCH_MODE,
    LAUNCH_PARAMETERS,
    LAUNCH_URL,
    LAUNCHED,
    LEARNER_PREFERENCES,
    MASTERY_SCORE,
    MOVE_ON,
    MOVE_ON_CATEGORY,
    PASSED,
    SATISFIED,
    SESSION_ID,
    TERMINATED,
    Cmi5Refused,
    Course,
    Registration,
    course_of,
    is_defined,
    move_on_met,
    newly_satisfied,
    registration_facts,
    satisfied_statements,
)
from kalan.lrs.cmi5_documents import (
    Cmi5DocumentRefused,
    check_document_write,
    mended_preferences,
    preferences_problem,
)
from kalan.lrs.cmi5_rules import ALL_STATEMENTS, DEFINED_STATEMENTS, check_statements, rules
from kalan.lrs.cmi5_sessions import launch_data, record_launch

__all__ = [
    "ABANDONED",
    "ADL",
    "ALL_STATEMENTS",
    "AU_VERBS",
    "BLOCK_TYPE",
    "CMI5_CATEGORY",
    "COMPLETED",
    "COURSE_TYPE",
    "DEFINED_STATEMENTS",
    "FAILED",
    "INITIALIZED",
    "JUDGED",
    "LAUNCHED",
    "LAUNCH_DATA",
    "LAUNCH_MODE",
    "LAUNCH_PARAMETERS",
    "LAUNCH_URL",
    "LEARNER_PREFERENCES",
    "MASTERY_SCORE",
    "MOVE_ON",
    "MOVE_ON_CATEGORY",
    "PASSED",
    "SATISFIED",
    "SESSION_ID",
    "TERMINATED",
    "Cmi5DocumentRefused",
    "Cmi5Refused",
    "Course",
    "Registration",
    "check_document_write",
    "check_statements",
    "course_of",
    "is_defined",
    "launch_data",
    "mended_preferences",
    "move_on_met",
    "newly_satisfied",
    "preferences_problem",
    "record_launch",
    "registration_facts",
    "rules",
    "satisfied_statements",
]
