"""The demo provider's staff: one login per row of the permission matrix (R-CORE-8, R-SYNC-20…24); and its
professionals: logins without a staff profile, who follow learning plans (R-CUR-1…8)."""

from dataclasses import dataclass

from waypoint.people.models import Perm

DEMO_PASSWORD = "waypoint-demo"


@dataclass(frozen=True)
class DemoStaff:
    username: str
    first_name: str
    last_name: str
    job_title: str
    perms: tuple[Perm, ...]
    is_tutor: bool = False
    # Empty: sees learners of every group. Otherwise the region groups this user may see.
    groups: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def all_groups(self) -> bool:
        return not self.groups

    @property
    def visibility(self) -> str:
        return "all groups" if self.all_groups else ", ".join(self.groups)

    @property
    def perms_label(self) -> str:
        return ", ".join(_SHORT[p] for p in self.perms) or "none"


_SHORT = {
    Perm.SUPERVISOR: "Supervisor",
    Perm.COMPLIANCE_QA: "Compliance QA",
    Perm.INTERNAL_VERIFIER: "Internal Verifier",
    Perm.ADM_ADD: "ADM Add",
    Perm.ADM_EDIT: "ADM Edit",
    Perm.ADM_DELETE: "ADM Delete",
    Perm.EDIT_DELETE_FINISHED: "Edit/Delete Finished",
    Perm.PLR_IMPORT: "PLR Import",
    Perm.PLR_VIEW: "PLR View",
    Perm.AUTOMATION_APPROVE: "Approve Automations",
}

LIMITED_REGIONS = ("North East", "Yorkshire and the Humber")

DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("supervisor", "Sandra", "Okoye", "Delivery Supervisor", (Perm.SUPERVISOR, Perm.AUTOMATION_APPROVE)),
    DemoStaff("cqa", "Colin", "Ashworth", "Compliance QA Lead", (Perm.COMPLIANCE_QA,)),
    DemoStaff("iv", "Imran", "Valli", "Internal Verifier", (Perm.INTERNAL_VERIFIER,)),
    DemoStaff("adm.add", "Abigail", "Dunmore", "Programme Administrator", (Perm.ADM_ADD,), is_tutor=True),
    DemoStaff("adm.edit", "Eddie", "Tremlett", "Skills Coach", (Perm.ADM_EDIT,), is_tutor=True),
    DemoStaff(
        "adm.edit.finished",
        "Fiona",
        "Castellano",
        "Senior Skills Coach",
        (Perm.ADM_EDIT, Perm.EDIT_DELETE_FINISHED),
        is_tutor=True,
    ),
    DemoStaff("adm.delete", "Dev", "Lakhani", "Data Officer", (Perm.ADM_DELETE,)),
    DemoStaff(
        "adm.delete.finished",
        "Fatima",
        "Doyle",
        "Senior Data Officer",
        (Perm.ADM_DELETE, Perm.EDIT_DELETE_FINISHED),
    ),
    DemoStaff(
        "adm.all",
        "Alan",
        "Mbeki",
        "Curriculum Manager",
        (Perm.ADM_ADD, Perm.ADM_EDIT, Perm.ADM_DELETE),
        is_tutor=True,
    ),
    DemoStaff("tutor", "Tessa", "Upton", "Skills Coach", (), is_tutor=True),
    DemoStaff("tutor.north", "Niall", "Ormerod", "Regional Skills Coach", (Perm.ADM_EDIT,), True, LIMITED_REGIONS),
    DemoStaff("quality", "Quentin", "Vickers", "Quality Officer (read only)", (Perm.PLR_VIEW,)),
    DemoStaff("mis", "Maria", "Sandhu", "MIS Officer", (Perm.PLR_IMPORT,)),
)


@dataclass(frozen=True)
class DemoProfessional:
    """A professional: a login with no staff profile, who sees only their own learning plans."""

    username: str
    first_name: str
    last_name: str
    note: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


PROFESSIONAL_LABEL = "professional (no staff profile)"

DEMO_PROFESSIONALS: tuple[DemoProfessional, ...] = (
    DemoProfessional("pro.registered", "Priya", "Natarajan", "own learning plans: registered, enrolled"),
    DemoProfessional("pro.assigned", "Owen", "Fairclough", "own learning plans: assigned, not registered"),
)

# More professionals, without a demo login (no usable password): the rest of the new tutors' group, so that the
# learning-plan reports have people to show.
DEMO_TEAM: tuple[DemoProfessional, ...] = tuple(
    DemoProfessional(f"{first}.{last}".lower(), first, last, "no login")
    for first, last in (
        ("Grace", "Okafor"),
        ("Tom", "Whitaker"),
        ("Aisha", "Rahman"),
        ("Callum", "Reid"),
        ("Megan", "Price"),
        ("Kwame", "Mensah"),
        ("Zuzanna", "Kowalska"),
        ("Rhys", "Pritchard"),
    )
)

TUTORS: tuple[DemoStaff, ...] = tuple(s for s in DEMO_STAFF if s.is_tutor)
USERNAMES: tuple[str, ...] = (
    tuple(s.username for s in DEMO_STAFF)
    + tuple(p.username for p in DEMO_PROFESSIONALS)
    + tuple(p.username for p in DEMO_TEAM)
)


def logins_table() -> str:
    """The demo logins as a plain-text table (for the README, `make run` and `waypoint demo_logins`)."""
    rows = [("username", "name", "permissions", "tutor", "sees")]
    rows += [(s.username, s.full_name, s.perms_label, "yes" if s.is_tutor else "", s.visibility) for s in DEMO_STAFF]
    rows += [(p.username, p.full_name, PROFESSIONAL_LABEL, "", p.note) for p in DEMO_PROFESSIONALS]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"\nPassword for every login: {DEMO_PASSWORD}")
    return "\n".join(lines)
