"""Assessments: grading responses to exercise items, mastery models, practice order.

Built on the item format of `kalan.content.exercises`: `grading.grade(item,
response)` and `mastery.assess_mastery(rule, answers)` are pure functions;
`mastery.next_item` and `mastery.display_order` give deterministic orders from
a seed. Free responses are graded by teachers (`services.grade_response`, the
page in `grading_views.py`, docs/architecture/grading.md).
"""
