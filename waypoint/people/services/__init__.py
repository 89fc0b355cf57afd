"""Writes to people: learners, employers, managers (employer contacts) and groups.

Who may do what (SPEC is silent; chosen to match how a training provider's admin team works):
- any staff user may create learners and edit the learners they can see, and create and edit
  employers and managers;
- a staff user who does not see every group may only put learners in groups they see, and a
  learner they create or edit must stay in at least one of those groups (so it stays visible to them);
- deleting a learner, employer or manager, and every change to groups, needs Supervisor
  (a Django superuser holds every permission).
"""

from waypoint.people.services.checks import assign, require_staff, require_supervisor
from waypoint.people.services.employers import (
    EmployerValues,
    ManagerValues,
    employer_create,
    employer_delete,
    employer_update,
    manager_create,
    manager_delete,
    manager_update,
)
from waypoint.people.services.groups import GroupValues, group_create, group_delete, group_update
from waypoint.people.services.learners import LearnerValues, learner_create, learner_delete, learner_update
from waypoint.people.services.staff import StaffValues, staff_update

__all__ = [
    "EmployerValues",
    "GroupValues",
    "LearnerValues",
    "ManagerValues",
    "StaffValues",
    "assign",
    "employer_create",
    "employer_delete",
    "employer_update",
    "group_create",
    "group_delete",
    "group_update",
    "learner_create",
    "learner_delete",
    "learner_update",
    "manager_create",
    "manager_delete",
    "manager_update",
    "require_staff",
    "require_supervisor",
    "staff_update",
]
