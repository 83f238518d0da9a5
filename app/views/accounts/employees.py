"""The "Pracownicy" settings tab (owner only) and every user's own profile page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_babel import gettext

from app.extensions import db
from app.security import roles
from app.services import DomainError
from app.services.accounts import employees as svc
from app.services.accounts import sessions
from app.views.base import CrmView, current_company_id, show_domain_error
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


def employee_or_404(user_id: int) -> Any:
    """A person of the signed-in user's company by id; 404 for anyone else's."""
    user = svc.get_employee(current_company_id(), user_id)
    if user is None:
        abort(404)
    return user


class EmployeesView(CrmView):
    """List, add, edit, (de)activate the people of the company."""

    route_base = "/settings/employees"
    crm_section = "settings"
    class_permission_name = "Employees"
    method_permission_name = {
        "index": "list",
        "show": "list",
        "add": "add",
        "edit": "edit",
        "set_active": "edit",
    }

    @expose("/")
    @has_access
    def index(self) -> Any:
        """All people of the company."""
        return self.render_template(
            "crm/employees.html",
            users=svc.company_users(current_company_id()),
            role_labels=roles.ROLE_LABELS,
        )

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self) -> Any:
        """Add a person with a password or an invitation link."""
        form = EmployeeForm()
        if request.method == "GET":
            form.role.data = roles.EMPLOYEE
        if form.validate_on_submit():
            invite = form.access.data == "invite"
            try:
                user = svc.add_employee(g.user, _data(form), invite=invite)
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("Employee %(name)s added.", name=str(user)), "success")
                if invite:
                    self._deliver_invitation(user)
                return redirect(url_for(".show", user_id=user.id))
        return self.render_template("crm/employee_form.html", form=form, employee=None)

    def _deliver_invitation(self, user: Any) -> None:
        try:
            sent = svc.send_invitation(user)
        except OSError:
            sent = False
        if sent:
            flash(gettext("The invitation was sent to %(email)s.", email=user.email), "info")
        else:
            flash(
                gettext("Give this invitation link to the employee: %(link)s", link=svc.invitation_link(user)),
                "info",
            )

    @expose("/<int:user_id>")
    @has_access
    def show(self, user_id: int) -> Any:
        """An employee's profile page."""
        user = employee_or_404(user_id)
        return self.render_template(
            "crm/profile.html",
            employee=user,
            role_labels=roles.ROLE_LABELS,
            manage=True,
            confirm=ConfirmForm(),
        )

    @expose("/<int:user_id>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, user_id: int) -> Any:
        """Edit an employee's data and role."""
        user = employee_or_404(user_id)
        form = EmployeeForm(obj=user)
        if request.method == "GET":
            form.role.data = next((r for r in roles.COMPANY_ROLES if r in user.role_names), roles.EMPLOYEE)
        if form.validate_on_submit():
            try:
                svc.update_employee(g.user, user, _data(form))
            except DomainError as err:
                db.session.rollback()
                show_domain_error(form, err)
            else:
                flash(gettext("Changes saved."), "success")
                return redirect(url_for(".show", user_id=user.id))
        return self.render_template("crm/employee_form.html", form=form, employee=user)

    @expose("/<int:user_id>/active", methods=["POST"])
    @has_access
    def set_active(self, user_id: int) -> Any:
        """Deactivate or reactivate an employee (POST with CSRF)."""
        user = employee_or_404(user_id)
        form = ConfirmForm()
        if form.validate_on_submit():
            active = request.form.get("active") == "1"
            try:
                svc.set_active(g.user, user, active)
            except DomainError as err:
                db.session.rollback()
                flash(str(err), "danger")
            else:
                flash(
                    gettext("Employee reactivated.") if active else gettext("Employee deactivated."),
                    "success",
                )
        return redirect(url_for(".show", user_id=user.id))


class ProfileView(CrmView):
    """The signed-in user's own profile."""

    route_base = "/profile"
    crm_section = "settings"
    class_permission_name = "Profile"

    @expose("/")
    @has_access
    def index(self) -> Any:
        """Show the user's own data and their active sessions."""
        return self.render_template(
            "crm/profile.html",
            employee=g.user,
            role_labels=roles.ROLE_LABELS,
            manage=False,
            confirm=ConfirmForm(),
            active_sessions=sessions.active_sessions(g.user),
        )
