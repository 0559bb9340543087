def role(request):
    """Expose the signed-in user's role so that templates show the right navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_role": None}
    return {"user_role": user.role}
