from django import template

from practice import revision

register = template.Library()


@register.inclusion_tag("practice/_revision_today.html")
def revision_today(user):
    """The dashboard's revision line: cards due today and the review streak (cached, see practice.caches)."""
    if not getattr(user, "is_authenticated", False):
        return {"summary": None}
    return {"summary": revision.revision_summary(user=user)}
