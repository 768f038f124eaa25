"""REST edge of identities. Views translate HTTP to accounts.services and back."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout, update_session_auth_hash
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import User
from moderation.ratelimit import request_source


class IdentitySerializer(serializers.Serializer):
    pseudonym = serializers.CharField(read_only=True, source="display_name")
    role = serializers.CharField(read_only=True)
    is_pseudonymous = serializers.BooleanField(read_only=True)
    has_passphrase = serializers.SerializerMethodField()
    same_alias_everywhere = serializers.BooleanField(read_only=True)

    def get_has_passphrase(self, user: User) -> bool:
        return user.has_usable_password()


class AnonymousIdentityRequest(serializers.Serializer):
    language = serializers.ChoiceField(choices=["ar", "ary", "fr", "en"], required=False)


class PassphraseRequest(serializers.Serializer):
    passphrase = serializers.CharField(max_length=200, trim_whitespace=False)


class PassphraseLoginRequest(serializers.Serializer):
    pseudonym = serializers.CharField(max_length=80)
    passphrase = serializers.CharField(max_length=200, trim_whitespace=False)


def _enforce_csrf(request: Request) -> None:
    # DRF checks CSRF only for signed-in sessions; signing in must be protected as well.
    SessionAuthentication().enforce_csrf(request)


def _login(request: Request, user: User) -> None:
    login(request._request, user, backend="django.contrib.auth.backends.ModelBackend")


class AnonymousIdentityView(APIView):
    """Create a pseudonymous identity (no personal data asked) and sign this browser in."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=AnonymousIdentityRequest, responses={201: IdentitySerializer})
    def post(self, request: Request) -> Response:
        _enforce_csrf(request)
        data = AnonymousIdentityRequest(data=request.data)
        data.is_valid(raise_exception=True)
        language = data.validated_data.get("language") or (request.LANGUAGE_CODE or "en")[:2]
        user = services.identity_create_anonymous(language=language,
                                                  source=request_source(request.META))
        _login(request, user)
        return Response(IdentitySerializer(user).data, status=status.HTTP_201_CREATED)


class MeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=IdentitySerializer)
    def get(self, request: Request) -> Response:
        return Response(IdentitySerializer(request.user).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Forget me: erase this identity and everything it wrote, at once. The browser forgets
        it too: signed out, its language cookie deleted, and (where the browser honours
        `Clear-Site-Data`) this site's local storage emptied; the page's script empties the
        `halqa.*` keys itself as well."""
        user = request.user
        logout(request._request)
        services.identity_erase(user=user)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH,
                               domain=settings.LANGUAGE_COOKIE_DOMAIN,
                               samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        # Not "cookies": that one would clear every cookie of the parent domain as well.
        response["Clear-Site-Data"] = '"storage"'
        return response


class PassphraseView(APIView):
    """Set a passphrase so this identity can be used on another device."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=PassphraseRequest, responses={204: None})
    def post(self, request: Request) -> Response:
        data = PassphraseRequest(data=request.data)
        data.is_valid(raise_exception=True)
        services.identity_set_passphrase(
            user=request.user, passphrase=data.validated_data["passphrase"]
        )
        # The session's hash follows the new password hash: this browser stays signed in.
        update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PassphraseLoginView(APIView):
    """Sign in with a pseudonym and its passphrase."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(request=PassphraseLoginRequest, responses={200: IdentitySerializer})
    def post(self, request: Request) -> Response:
        _enforce_csrf(request)
        data = PassphraseLoginRequest(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.identity_authenticate(**data.validated_data,
                                              source=request_source(request.META))
        _login(request, user)
        return Response(IdentitySerializer(user).data)
