"""The "Pracownicy" settings tab (owner only) and every user's own profile page."""

from __future__ import annotations

from typing import ClassVar

from flask import flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.models.users import CrmUser
from app.security import roles, web_session
from app.services.accounts import employees as svc
from app.services.accounts import sessions
from app.views.accounts.links import invitation_link
from app.views.base import CrmView, current_company_id, form_action, found, post_action
from app.views.forms import ConfirmForm, EmployeeForm


def _data(form: EmployeeForm) -> svc.EmployeeData:
    return svc.EmployeeData(
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        email=form.email.data,
        role=form.role.data,
        phone=form.phone.data,
        position=form.position.data,
        password=form.password.data,
    )


def employee_or_404(user_id: int) -> CrmUser:
    """A person of the signed-in user's company by id; 404 for anyone else's."""
    return found(svc.get_employee(current_company_id(), user_id))


def _deliver_invitation(user: CrmUser) -> None:
    """E-mail the invitation, or show the link to hand over when mail is off or fails."""
    link = invitation_link(svc.invitation_token(user))
    try:
        sent = svc.send_invitation(user, link)
    except OSError:
        sent = False
    if sent:
        flash(gettext("The invitation was sent to %(email)s.", email=user.email), "info")
    else:
        flash(gettext("Give this invitation link to the employee: %(link)s", link=link), "info")


class EmployeesView(CrmView):
    """List, add, edit, (de)activate the people of the company."""

    route_base = "/settings/employees"
    crm_section = "settings"
    class_permission_name = "Employees"
    method_permission_name: ClassVar[dict[str, str]] = {
        "index": "list",
        "show": "list",
        "add": "add",
        "edit": "edit",
        "set_active": "edit",
    }

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """All people of the company."""
        return self.render_template(
            "crm/employees.html",
            users=svc.company_users(current_company_id()),
            role_labels=roles.ROLE_LABELS,
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> ResponseReturnValue:
        """Add a person with a password or an invitation link."""
        form = EmployeeForm()
        if request.method == "GET":
            form.role.data = roles.EMPLOYEE
        if form.validate_on_submit():
            invite = form.access.data == "invite"
            done = form_action(form, lambda: svc.add_employee(g.user, _data(form), invite=invite))
            if done.ok and done.value is not None:
                user = done.value
                flash(gettext("Employee %(name)s added.", name=str(user)), "success")
                if invite:
                    _deliver_invitation(user)
                return redirect(url_for(".show", user_id=user.id))
        return self.render_template("crm/employee_form.html", form=form, employee=None)

    @expose("/<int:user_id>")
    @has_access
    def show(self, user_id: int) -> ResponseReturnValue:
        """An employee's profile page."""
        return self.render_template(
            "crm/profile.html",
            employee=employee_or_404(user_id),
            role_labels=roles.ROLE_LABELS,
            manage=True,
            confirm=ConfirmForm(),
        )

    @expose("/<int:user_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, user_id: int) -> ResponseReturnValue:
        """Edit an employee's data and role."""
        user = employee_or_404(user_id)
        form = EmployeeForm(obj=user)
        if request.method == "GET":
            form.role.data = next((r for r in roles.COMPANY_ROLES if r in user.role_names), roles.EMPLOYEE)
        if form.validate_on_submit():
            if form_action(form, lambda: svc.update_employee(g.user, user, _data(form)), gettext("Changes saved.")).ok:
                return redirect(url_for(".show", user_id=user.id))
        return self.render_template("crm/employee_form.html", form=form, employee=user)

    @expose("/<int:user_id>/active", methods=["POST"])
    @has_access
    def set_active(self, user_id: int) -> ResponseReturnValue:
        """Deactivate or reactivate an employee (POST with CSRF)."""
        user = employee_or_404(user_id)
        if ConfirmForm().validate_on_submit():
            active = request.form.get("active") == "1"
            post_action(
                lambda: svc.set_active(g.user, user, active),
                gettext("Employee reactivated.") if active else gettext("Employee deactivated."),
            )
        return redirect(url_for(".show", user_id=user.id))


class ProfileView(CrmView):
    """The signed-in user's own profile."""

    route_base = "/profile"
    crm_section = "settings"
    class_permission_name = "Profile"

    @expose("/")
    @has_access
    def index(self) -> ResponseReturnValue:
        """Show the user's own data and their active sessions."""
        return self.render_template(
            "crm/profile.html",
            employee=g.user,
            role_labels=roles.ROLE_LABELS,
            manage=False,
            confirm=ConfirmForm(),
            active_sessions=sessions.active_sessions(g.user, web_session.current_session_id()),
        )
