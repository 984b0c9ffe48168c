"""Outbound messages (SMS or other channels) to people who are not watching a page."""

from django.db import models

from pingan.core.fields import BlindIndexField, EncryptedTextField


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class OutboundMessage(models.Model):
    created_at = models.DateTimeField("创建时间", db_index=True)
    phone = EncryptedTextField("手机号", max_length=20, help_text="E.164")  # SM4 at rest
    phone_hash = BlindIndexField(source="phone", purpose="phone")
    text = models.CharField("内容", max_length=500)
    # What the message is about, e.g. "dispute:JF20261123-000001", for the case's history.
    topic = models.CharField("关联", max_length=64, db_index=True, blank=True)
    status = models.CharField(
        "状态", max_length=8, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    # A claimed message is not picked again before this, so a slow gateway call is not doubled.
    next_attempt_at = models.DateTimeField("下次尝试", db_index=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    backend = models.CharField("通道", max_length=100, blank=True)
    provider_id = models.CharField("通道回执", max_length=100, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)

    class Meta:
        verbose_name = "短信 / 消息"
        verbose_name_plural = "短信 / 消息"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.phone} {self.text[:20]}"
