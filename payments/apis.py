"""Payments REST API for the mobile apps: create an order, verify Checkout's callback, my payments."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cerebrum.api_tools import CreatedCursorPagination, StrictInputSerializer, error_responses, idempotent
from cerebrum.shapes import serializer_for
from payments import selectors, services, shapes
from payments.gateways import gateway_for_payment
from payments.invoices import STATE_CHOICES
from payments.models import Payment


class PaymentOutputSerializer(serializers.ModelSerializer):
    course_id = serializers.IntegerField(source="enrollment.course_id", read_only=True)
    course_name = serializers.CharField(source="enrollment.course.name", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "status",
            "amount_paise",
            "refunded_paise",
            "currency",
            "gateway",
            "enrollment_id",
            "course_id",
            "course_name",
            "razorpay_order_id",
            "razorpay_payment_id",
            "receipt_number",
            "failure_reason",
            "anomaly",
            "discount_paise",
            "billing_state",
            "created_at",
            "captured_at",
        ]
        read_only_fields = fields


# paid_at is declared non-null as published (a receipt exists only once captured, so it is set).
ReceiptSerializer = serializer_for(
    shapes.Receipt, exclude=("has_invoice",), fields={"paid_at": serializers.CharField()}
)


class PaymentDetailSerializer(PaymentOutputSerializer):
    receipt = serializers.SerializerMethodField()

    class Meta(PaymentOutputSerializer.Meta):
        fields = [*PaymentOutputSerializer.Meta.fields, "receipt"]
        read_only_fields = fields

    @extend_schema(responses=ReceiptSerializer(allow_null=True))
    def get_receipt(self, payment: Payment) -> dict | None:
        return selectors.payment_receipt(payment)


class PaymentOrderCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        enrollment_id = serializers.IntegerField(min_value=1)
        coupon_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
        billing_state = serializers.ChoiceField(choices=STATE_CHOICES, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        payment_id = serializers.IntegerField(source="id")
        razorpay_order_id = serializers.CharField()
        amount_paise = serializers.IntegerField()
        discount_paise = serializers.IntegerField()
        billing_state = serializers.CharField()
        currency = serializers.CharField()
        status = serializers.CharField()
        gateway = serializers.CharField()
        key_id = serializers.SerializerMethodField()
        checkout_url = serializers.SerializerMethodField()

        def get_key_id(self, payment: Payment) -> str:
            return gateway_for_payment(payment.gateway).key_id

        def get_checkout_url(self, payment: Payment) -> str:
            return self.context["request"].build_absolute_uri(
                reverse("payments:checkout", args=[payment.enrollment_id])
            )

    @extend_schema(
        operation_id="payments_order_create",
        summary="Create (or reuse) the gateway order for my pending enrollment, with an optional coupon",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 404, 409, 422)},
    )
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment = selectors.enrollment_get_payable(
            user=request.user, enrollment_id=data.validated_data["enrollment_id"]
        )
        payment = services.payment_order_create(
            user=request.user,
            enrollment=enrollment,
            coupon_code=data.validated_data.get("coupon_code", ""),
            billing_state=data.validated_data.get("billing_state", ""),
        )
        return Response(
            self.OutputSerializer(payment, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class PaymentVerifyApi(APIView):
    class InputSerializer(StrictInputSerializer):
        razorpay_order_id = serializers.CharField(max_length=64)
        razorpay_payment_id = serializers.CharField(max_length=64)
        razorpay_signature = serializers.CharField(max_length=128)
        amount_paise = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(
        operation_id="payments_verify",
        summary="Verify Razorpay Checkout's success callback; captures and activates the enrollment",
        request=InputSerializer,
        responses={200: PaymentDetailSerializer, **error_responses(400, 401)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.payment_verify_checkout(user=request.user, **data.validated_data)
        return Response(PaymentDetailSerializer(payment).data)


class PaymentListApi(generics.ListAPIView):
    serializer_class = PaymentOutputSerializer
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        return selectors.payment_list_for_user(user=self.request.user)

    @extend_schema(
        operation_id="payments_list",
        summary="My payments, newest first",
        responses={200: PaymentOutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class PaymentDetailApi(APIView):
    @extend_schema(
        operation_id="payments_retrieve",
        summary="One of my payments, with its receipt (GST breakdown) once paid",
        responses={200: PaymentDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request, payment_id: int):
        payment = selectors.payment_get_for_user(user=request.user, payment_id=payment_id)
        return Response(PaymentDetailSerializer(payment).data)
